"""axe-core (npm ``axe-core``, pinned and vendored in tests/e2e/vendor/axe-core/) run in Chromium.

Only the tests load it: the console never serves it. The page is opened in a context that bypasses
the console's CSP (``script-src 'self'``), so the vendored script can be added to it; the page's own
scripts run as always. ADR 0047 says which rules and why."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, ViewportSize

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0/2.1 A and AA success criteria, plus axe's best practices (landmarks, one main, headings).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = frozenset({"serious", "critical"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.impact} {self.rule} ({self.help}): {', '.join(self.targets[:6])}"


async def new_page(browser: Browser, viewport: ViewportSize | None = None) -> Page:
    context = await browser.new_context(bypass_csp=True, viewport=viewport or {"width": 1280, "height": 800})
    return await context.new_page()


async def violations(page: Page) -> list[Violation]:
    """Every violation axe finds on the page as it stands (all impacts)."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.add_script_tag(path=str(AXE))
    raw: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
            const result = await window.axe.run(document, {
                runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            const where = (n) => {  // the selector, and for contrast the colours found
                const data = (n.any[0] && n.any[0].data) || {};
                const colours = data.fgColor ? ` [${data.fgColor} on ${data.bgColor}: ${data.contrastRatio}]` : '';
                return n.target.join(' ') + colours;
            };
            return result.violations.map((v) => ({
                rule: v.id, impact: v.impact || 'minor', help: v.help, targets: v.nodes.map(where)}));
        }""", TAGS)
    return [Violation(rule=v["rule"], impact=v["impact"], help=v["help"], targets=tuple(v["targets"]))
            for v in raw]


async def blocking(page: Page) -> list[Violation]:
    """The serious and critical violations: what the accessibility test refuses."""
    return [v for v in await violations(page) if v.impact in BLOCKING]
