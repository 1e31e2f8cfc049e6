"""The SMS channel through a Kannel gateway: MO and DLR callbacks in, sendsms out."""
