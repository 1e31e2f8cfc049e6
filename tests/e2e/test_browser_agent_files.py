"""Files from the agent in a real browser (issue 16 item 4, ADR 0046): the agent attaches a PDF with
the composer's file button; it arrives in the customer's web chat widget, which downloads it with its
own credential; on an e-mail conversation the same button sends it as a MIME attachment through the
real Postfix/Dovecot rig. A forbidden type is refused with the server's reason."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Browser, expect

from hub.bootstrap import RunningHub
from tests.e2e.test_browser_composer import widget_says
from tests.e2e.test_browser_flow import login
from tests.integration.test_agent_files import PDF, PNG
from tests.integration.test_email_flow import email_hub, mail, received  # noqa: F401 (fixtures)
from tests.mailserver import SUPPORT, MailServer, customer_address, customer_mail, plain_text, smtp_send


async def test_a_file_from_the_agent_arrives_in_the_widget(hub: RunningHub, browser: Browser, tmp_path: Path) -> None:
    alice = await login(browser, hub.base_url, "alice")
    customer = await widget_says(browser, hub.base_url, "Please send me my bill")
    await alice.get_by_test_id("offers").get_by_test_id("conv-item").get_by_test_id("offer-accept").click()
    box = alice.get_by_test_id("composer-input")
    await expect(box).to_be_focused()

    forbidden = tmp_path / "bill.pdf"
    forbidden.write_bytes(b"<html><script>alert(1)</script></html>")
    await alice.get_by_test_id("composer-file-input").set_input_files(str(forbidden))
    await expect(alice.get_by_test_id("toast").filter(has_text="only PNG, JPEG")).to_be_visible()

    pdf = tmp_path / "电费账单.pdf"
    pdf.write_bytes(PDF)
    await box.fill("Here is your bill.")
    await alice.get_by_test_id("composer-file-input").set_input_files(str(pdf))
    own = alice.get_by_test_id("timeline-message").filter(has_text="Here is your bill.")
    await expect(own.get_by_test_id("attachment-link")).to_contain_text("电费账单.pdf")
    await expect(box).to_have_value("")
    # Her inbox line follows from the answer: the file's frame skips the tab that sent it (ADR 0073).
    await expect(alice.get_by_test_id("assigned").get_by_test_id("conv-item").locator(".conv-preview")).to_have_text(
        "Here is your bill.")

    reply = customer.get_by_test_id("hubchat-message").filter(has_text="Here is your bill.")
    file = reply.get_by_test_id("hubchat-file")
    await expect(file).to_have_attribute("data-filename", "电费账单.pdf")
    async with customer.expect_download() as info:
        await file.click()
    download = await info.value
    assert download.suggested_filename == "电费账单.pdf"
    saved = await download.path()
    assert await asyncio.to_thread(saved.read_bytes) == PDF


async def test_an_image_in_the_timeline_is_previewed(hub: RunningHub, browser: Browser, tmp_path: Path) -> None:
    """A PNG in a message shows as an image in the timeline (loaded through ``?inline=1``), beside its link."""
    alice = await login(browser, hub.base_url, "alice")
    await widget_says(browser, hub.base_url, "I will send a photo of my meter")
    await alice.get_by_test_id("offers").get_by_test_id("conv-item").get_by_test_id("offer-accept").click()
    await expect(alice.get_by_test_id("composer-input")).to_be_focused()
    photo = tmp_path / "meter.png"
    photo.write_bytes(PNG)
    await alice.get_by_test_id("composer-file-input").set_input_files(str(photo))
    image = alice.get_by_test_id("timeline-message").get_by_test_id("attachment-image")
    await expect(image).to_have_count(1)
    await expect(image).to_have_attribute("alt", "meter.png")
    await alice.wait_for_function("""() => {
        const img = document.querySelector('[data-testid="attachment-image"]');
        return img !== null && img.complete && img.naturalWidth === 1;
    }""")


async def test_a_file_from_the_agent_arrives_by_email(
        mail: MailServer, email_hub: RunningHub, browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    customer_mailbox = customer_address()
    alice = await login(browser, email_hub.base_url, "alice")
    await smtp_send(mail, customer_mail(customer_mailbox, "Could you mail me the bill?", subject="Bill"),
                    sender=customer_mailbox, recipients=[SUPPORT])
    await alice.get_by_test_id("offers").get_by_test_id("conv-item").get_by_test_id("offer-accept").click()
    box = alice.get_by_test_id("composer-input")
    await expect(box).to_be_focused()
    pdf = tmp_path / "bill-2026-11.pdf"
    pdf.write_bytes(PDF)
    await box.fill("Your November bill is attached.")
    await alice.get_by_test_id("composer-file-input").set_input_files(str(pdf))
    await expect(alice.get_by_test_id("timeline-message").filter(
        has_text="Your November bill is attached.").get_by_test_id("attachment-link")).to_have_count(1)
    [reply] = await received(mail, customer_mailbox)
    assert plain_text(reply).strip() == "Your November bill is attached."
    [part] = list(reply.iter_attachments())
    assert (part.get_content_type(), part.get_filename(), part.get_content()) == (
        "application/pdf", "bill-2026-11.pdf", PDF)
