"""Volunteer-hours certificates: the committee issues and revokes them, the member and the
committee's staff open the page and the PDF, and anyone checks a code without logging in."""

import base64
import functools
import io
import re
from datetime import date

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from reportlab.graphics import renderPDF, renderSVG
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from aid_posts.views.common import add_service_error
from neighbors.permissions import committee_communities

from ..forms.certificates import CertificateCheckForm, CertificateIssueForm, CertificateRevokeForm
from ..models import Certificate
from ..permissions import certificates_managed_by, memberships_certifiable_by
from ..selectors import certificates as selectors
from ..services import certificates as services

# The document's name, in both languages whatever the reader's: it is the title every paper
# certificate carries, as the site's name is "近邻 Jinlin" in every language.
TITLE_ZH = "志愿服务时长证明"
TITLE_EN = "Certificate of Volunteer Service Hours"
# The committee's list, this many at a time.
PAGE_SIZE = 50
# reportlab's built-in Chinese font: the PDF viewer supplies the glyphs, so no font file ships.
CHINESE_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"


def _denied(request: HttpRequest) -> HttpResponse:
    # The page itself, not an object: a plain 403 that says who it is for.
    return render(request, "committee/certificates/issued.html", {"denied": True}, status=403)


def verification_url(certificate: Certificate) -> str:
    """The address printed on the certificate: the site's public one, not the request's host."""
    return settings.SITE_URL.rstrip("/") + reverse("rewards:verify_code", args=[certificate.code])


def committee_name(community_name: str) -> str:
    return _("%(community)s Residents' Committee") % {"community": community_name}


# --- The committee's pages ------------------------------------------------------------------


@login_required
@require_GET
def certificates_issued(request: HttpRequest) -> HttpResponse:
    """Every certificate of the committee's communities, newest first, with revoke."""
    if not committee_communities(request.user).exists():
        return _denied(request)
    page = Paginator(selectors.certificates_issued_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "committee/certificates/issued.html",
        {"page": page, "revoke_form": CertificateRevokeForm()},
    )


def _period_initial() -> dict[str, date]:
    # This year so far: the period a certificate is most often asked for.
    today = timezone.localdate()
    return {"period_start": today.replace(month=1, day=1), "period_end": today}


@login_required
@require_http_methods(["GET", "POST"])
def certificate_issue(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Choose a period, check the hours it holds ("preview"), then issue."""
    membership = get_object_or_404(
        memberships_certifiable_by(request.user).select_related("user__profile", "community"),
        pk=membership_id,
    )
    form = CertificateIssueForm(request.POST if request.method == "POST" else None, initial=_period_initial())
    breakdown = None
    if request.method == "POST" and form.is_valid():
        period = {key: form.cleaned_data[key] for key in ("period_start", "period_end")}
        if request.POST.get("action") == "preview":
            breakdown = selectors.hours_breakdown(user=membership.user, community=membership.community, **period)
        else:
            try:
                certificate = services.certificate_issue(actor=request.user, membership=membership, **period)
            except PermissionDenied as denied:
                raise Http404 from denied
            except ValidationError as error:
                add_service_error(form, error)
            else:
                flash.success(request, _("The certificate is issued; the member is told."))
                return redirect("rewards:certificate", pk=certificate.pk)
    return render(
        request,
        "committee/certificates/issue.html",
        {"membership": membership, "form": form, "breakdown": breakdown},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def certificate_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = get_object_or_404(certificates_managed_by(request.user), pk=pk)
    form = CertificateRevokeForm(request.POST)
    if not form.is_valid():
        flash.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect("committee:certificates")
    try:
        services.certificate_revoke(actor=request.user, certificate=certificate, reason=form.cleaned_data["reason"])
    except PermissionDenied as denied:
        raise Http404 from denied
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
    else:
        flash.success(request, _("The certificate is revoked: its check now says so. The member is told."))
    return redirect("committee:certificates")


# --- The member's (and the staff's) pages ---------------------------------------------------


@login_required
@require_GET
def my_certificates(request: HttpRequest) -> HttpResponse:
    return render(
        request, "committee/certificates/mine.html", {"certificates": selectors.certificates_of(request.user)}
    )


def _certificate_for(request: HttpRequest, pk: int) -> Certificate:
    """The member's own, or one of a community the person works for; a 404 for anyone else."""
    certificate = selectors.certificate_visible(request.user, pk)
    if certificate is None:
        raise Http404
    return certificate


def _qr_drawing(url: str, size: float) -> Drawing:
    widget = QrCodeWidget(url)
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    return drawing


def _qr_data_uri(url: str) -> str:
    svg = renderSVG.drawToString(_qr_drawing(url, 120))
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@login_required
@require_GET
def certificate_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate to read on screen and print (the print style keeps only the certificate),
    with the breakdown of its hours for the member's own reading."""
    certificate = _certificate_for(request, pk)
    url = verification_url(certificate)
    return render(
        request,
        "committee/certificates/certificate.html",
        {
            "certificate": certificate,
            "title_zh": TITLE_ZH,
            "title_en": TITLE_EN,
            "committee_name": committee_name(certificate.community.name),
            "code": selectors.code_grouped(certificate.code),
            "verification_url": url,
            "qr": _qr_data_uri(url),
            "breakdown": selectors.certificate_breakdown(certificate),
        },
    )


def _both(message: str, **params: str) -> str:
    """A line of the PDF in Chinese and in English, whatever the reader's language (the paper
    may go to an English-speaking employer); once where the two read the same."""
    texts = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            texts.append(_(message) % params)
    return texts[0] if texts[0] == texts[1] else f"{texts[0]}  {texts[1]}"


# Runs of text the Latin font can write, and runs it cannot.
_SCRIPT_RUNS = re.compile(r"[\x20-\x7e]+|[^\x20-\x7e]+")


def _draw(
    pdf: Canvas, x: float, y: float, text: str, size: float, *, bold: bool = False, centred: bool = False
) -> None:
    """Write a line mixing Chinese and Latin text: Latin runs in Helvetica (the Chinese font's
    Latin letters are cramped), the rest in the Chinese font."""
    runs = []
    for run in _SCRIPT_RUNS.findall(text):
        font = (LATIN_BOLD if bold else LATIN_FONT) if run.isascii() else CHINESE_FONT
        runs.append((run, font, pdfmetrics.stringWidth(run, font, size)))
    if centred:
        x -= sum(run_width for _run, _font, run_width in runs) / 2
    for run, font, run_width in runs:
        pdf.setFont(font, size)
        pdf.drawString(x, y, run)
        x += run_width


@functools.cache
def _chinese_font_registered() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(CHINESE_FONT))


def _pdf_lines(certificate: Certificate) -> list[tuple[str, str]]:
    """(label, value) rows, labels in both languages."""
    issued = timezone.localtime(certificate.issued_at).date()
    period = f"{certificate.period_start.isoformat()} — {certificate.period_end.isoformat()}"
    community = certificate.community.name
    return [
        (_both(gettext_noop("Name")), certificate.display_name),
        (_both(gettext_noop("Community")), community),
        (_both(gettext_noop("Period")), period),
        (
            _both(gettext_noop("Volunteer hours")),
            _both(gettext_noop("%(hours)s hours"), hours=selectors.hours_text(certificate.hours)),
        ),
        (
            _both(gettext_noop("Issued by")),
            _both(gettext_noop("%(community)s Residents' Committee"), community=community),
        ),
        (_both(gettext_noop("Date of issue")), issued.isoformat()),
        (_both(gettext_noop("Verification code")), selectors.code_grouped(certificate.code)),
    ]


def certificate_pdf_bytes(certificate: Certificate) -> bytes:
    """The certificate as one A4 landscape page, the same facts as the page and the public check."""
    _chinese_font_registered()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"{TITLE_ZH} {TITLE_EN} {certificate.code}")
    pdf.setAuthor(committee_name(certificate.community.name))
    pdf.setLineWidth(2)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    pdf.setLineWidth(0.5)
    pdf.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)

    _draw(pdf, width / 2, height - 42 * mm, TITLE_ZH, 30, centred=True)
    _draw(pdf, width / 2, height - 52 * mm, TITLE_EN, 15, centred=True)
    top = height - 74 * mm
    for row, (label, value) in enumerate(_pdf_lines(certificate)):
        y = top - row * 11 * mm
        _draw(pdf, 30 * mm, y, label, 12)
        _draw(pdf, 100 * mm, y, value, 14, bold=True)

    url = verification_url(certificate)
    _draw(pdf, 30 * mm, 30 * mm, _both(gettext_noop("Check this certificate at")), 11)
    _draw(pdf, 30 * mm, 24 * mm, url, 11)
    renderPDF.draw(_qr_drawing(url, 38 * mm), pdf, width - 62 * mm, 22 * mm)

    if certificate.revoked_at is not None:
        day = timezone.localtime(certificate.revoked_at).date().isoformat()
        pdf.setFillColor(colors.red)
        _draw(pdf, width / 2, height - 63 * mm, _both(gettext_noop("Revoked on %(day)s"), day=day), 20, centred=True)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@login_required
@require_GET
def certificate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = _certificate_for(request, pk)
    response = HttpResponse(certificate_pdf_bytes(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.code}.pdf"'
    return response


# --- The public check -----------------------------------------------------------------------


@require_GET
def verify(request: HttpRequest) -> HttpResponse:
    """The code form. A GET form, so that the check's address can be bookmarked and shared."""
    if "code" not in request.GET:
        return render(request, "committee/certificates/verify.html", {"form": CertificateCheckForm()})
    form = CertificateCheckForm(request.GET)
    if not form.is_valid():
        return render(request, "committee/certificates/verify.html", {"form": form}, status=400)
    return redirect("rewards:verify_code", code=form.cleaned_data["code"])


def _client_address(request: HttpRequest) -> str:
    # The address the ASGI server reports: behind the reverse proxy it must be started with
    # its proxy-headers option, so that this is the visitor's and not the proxy's.
    return request.META.get("REMOTE_ADDR") or "unknown"


@require_GET
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    """What the certificate states, and whether it stands; nothing about the person beyond it."""
    try:
        services.certificate_check_count(client=_client_address(request))
    except services.ChecksLimited as limited:
        response = render(request, "committee/certificates/verify_limited.html", {"text": limited.text}, status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response
    certificate = selectors.certificate_by_code(code)
    if certificate is None:
        return render(
            request,
            "committee/certificates/verify_unknown.html",
            {"form": CertificateCheckForm(initial={"code": code[:30]})},
            status=404,
        )
    return render(
        request,
        "committee/certificates/verify_result.html",
        {
            "certificate": certificate,
            "title_zh": TITLE_ZH,
            "title_en": TITLE_EN,
            "committee_name": committee_name(certificate.community.name),
            "code": selectors.code_grouped(certificate.code),
        },
    )
