"""The automated accessibility audit: axe-core (vendored, see vendor/axe-core-*/README.md) run
inside the page a browser test is looking at.

Only "serious" and "critical" findings fail a test: those are the ones that stop someone from
using a page (a control with no name, text too faint to read, a link that goes nowhere). The
lesser ones ("moderate", "minor") are advice and would make the audit too noisy to keep.
"""

from pathlib import Path

from playwright.sync_api import Page

AXE_JS = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"

# WCAG 2.0 and 2.1, levels A and AA, plus Deque's best practices (landmarks, one main, ...).
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = {"serious", "critical"}
REPORT_TARGETS = 3


def axe_violations(page: Page, *, enhanced_contrast: bool = False) -> list[dict]:
    """The serious and critical axe violations on the page as it is now.

    enhanced_contrast=True adds the AAA contrast rule (7:1, 4.5:1 for large text), which the
    large-text mode (长辈模式) promises."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    options: dict = {
        "runOnly": {"type": "tag", "values": WCAG_AA_TAGS},
        "resultTypes": ["violations"],
    }
    if enhanced_contrast:
        # An explicitly enabled rule runs even though its tag (wcag2aaa) is not in runOnly.
        options["rules"] = {"color-contrast-enhanced": {"enabled": True}}
    results = page.evaluate("(options) => window.axe.run(document, options)", options)
    return [violation for violation in results["violations"] if violation.get("impact") in FAILING_IMPACTS]


def axe_report(violations: list[dict]) -> str:
    """One paragraph per rule: what is wrong, why it matters, and where (the first few elements)."""
    if not violations:
        return "no serious or critical accessibility violations"
    lines = []
    for violation in violations:
        nodes = violation.get("nodes", [])
        lines.append(
            f"[{violation.get('impact')}] {violation['id']}: {violation.get('help')} "
            f"({len(nodes)} element{'s' if len(nodes) != 1 else ''}) {violation.get('helpUrl', '')}"
        )
        for node in nodes[:REPORT_TARGETS]:
            target = " ".join(str(part) for part in node.get("target", []))
            lines.append(f"    at {target}: {node.get('html', '').strip()[:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ").strip()
            if summary:
                lines.append(f"        {summary[:300]}")
        if len(nodes) > REPORT_TARGETS:
            lines.append(f"    ... and {len(nodes) - REPORT_TARGETS} more")
    return "\n".join(lines)


def assert_accessible(page: Page, *, enhanced_contrast: bool = False) -> None:
    """Fails with a readable report if axe finds a serious or critical violation on the page."""
    violations = axe_violations(page, enhanced_contrast=enhanced_contrast)
    assert not violations, f"accessibility violations on {page.url}:\n{axe_report(violations)}"
