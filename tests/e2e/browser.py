"""What the browser tests share beyond fixtures."""

from playwright.sync_api import Page

from tests.factories import PASSWORD


def log_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Through the real login page, as a person would; waits for the home page."""
    page.goto("/accounts/login/")
    form = page.locator('form[action="/accounts/login/"]')
    form.locator("input[name=login]").fill(email)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base_url}/")
