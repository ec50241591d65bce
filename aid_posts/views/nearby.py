"""The nearby page: open requests within a radius of one's building, as a list and a map.

The list is server-rendered and works without JavaScript; the map and the live
refresh (static/js/nearby.js) are enhancements on top of it. The refresh asks for
the same URL with `X-Requested-With: fetch` and gets only the results partial.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from neighbors import selectors as neighbor_selectors
from neighbors.models import Membership, Place
from neighbors.permissions import can_use_location, communities_visible_to, is_minor
from talent_pool.models import Skill
from talent_pool.selectors import skills

from ..models import AidPost
from ..selectors.nearby import SORT_DISTANCE, SORT_URGENCY, NearbyPage, NearbyRow, posts_near

PAGE_SIZE = 20
DEFAULT_RADIUS_M = 1000
# The header nearby.js sends for the results partial. A header, not a query parameter, so
# that the URL a person bookmarks or shares is always the whole page.
FRAGMENT_HEADER = "X-Requested-With"
FRAGMENT_VALUE = "fetch"
# Further than anyone would page through by hand; keeps a hand-edited URL in bounds.
MAX_PAGE = 1000


def radius_label(metres: int) -> str:
    if metres < 1000:
        return _("%(metres)s m") % {"metres": metres}
    return _("%(km)s km") % {"km": f"{metres / 1000:g}"}


def _place_label(place: Place) -> str:
    return f"{place.community.name} · {place.name}"


class NearbyForm(forms.Form):
    """What the GET form and the pagination links carry: where, how far, what, in which order."""

    building = forms.ModelChoiceField(queryset=Place.objects.none(), label=gettext_lazy("Near"), empty_label=None)
    radius = forms.TypedChoiceField(label=gettext_lazy("Within"), coerce=int)
    category = forms.ModelChoiceField(
        queryset=Skill.objects.none(),
        label=gettext_lazy("Kind of help"),
        required=False,
        empty_label=gettext_lazy("Any kind"),
    )
    urgency = forms.TypedChoiceField(label=gettext_lazy("Urgency"), coerce=int, required=False, empty_value=None)
    sort = forms.ChoiceField(
        label=gettext_lazy("Order"),
        choices=[(SORT_DISTANCE, gettext_lazy("Nearest first")), (SORT_URGENCY, gettext_lazy("Most urgent first"))],
    )
    page = forms.IntegerField(min_value=1, max_value=MAX_PAGE, required=False)

    def __init__(
        self, data, *, homes: list[tuple[int, str]], places: QuerySet[Place], categories: QuerySet[Skill]
    ) -> None:
        """`homes`: (building id, label) of the viewer's home buildings, for the menu."""
        super().__init__(data)
        # Any building of the viewer's communities is a valid origin (a link may name one), but
        # the menu offers only their home buildings: a select of every building in a district
        # would be thousands of options.
        self.fields["building"].queryset = places
        self.fields["building"].widget.choices = [
            (pk, _("%(building)s (your home)") % {"building": label}) for pk, label in homes
        ]
        self.fields["radius"].choices = [(metres, radius_label(metres)) for metres in settings.NEARBY_RADIUS_CHOICES_M]
        self.fields["category"].queryset = categories
        self.fields["urgency"].choices = [("", _("Any urgency")), *AidPost.Urgency.choices]

    def clean_building(self) -> Place:
        place = self.cleaned_data["building"]
        offered = self.fields["building"].widget.choices
        if all(pk != place.pk for pk, _label in offered):
            # Keep a building that came from a link selected when the form is shown again.
            self.fields["building"].widget.choices = [*offered, (place.pk, _place_label(place))]
        return place

    def filter_query(self, **changes: object) -> str:
        """The cleaned filters as a query string, with `changes`, for links that keep them
        (the pagination adds its page; the empty state offers a wider radius)."""
        data = self.cleaned_data
        values = {
            "building": data["building"].pk,
            "radius": data["radius"],
            "category": data["category"].pk if data["category"] else "",
            "urgency": "" if data["urgency"] is None else data["urgency"],
            "sort": data["sort"],
        }
        return urlencode({**values, **changes})


def _map_buildings(rows: tuple[NearbyRow, ...]) -> list[dict]:
    """One marker per request building of the page, with its requests. Only these buildings'
    coordinates reach the page: never the origin's, which may be the viewer's own home."""
    buildings: dict[int, dict] = {}
    for row in rows:
        post = row.post
        building = buildings.get(post.place_id)
        if building is None:
            building = buildings[post.place_id] = {
                "name": post.place.name,
                "lat": float(post.place.latitude),
                "lng": float(post.place.longitude),
                "distance_m": row.distance_m,
                "posts": [],
            }
        building["posts"].append(
            {
                "id": post.pk,
                "title": post.title,
                "url": reverse("aid_posts:detail", args=[post.pk]),
                "urgent": post.urgency == AidPost.Urgency.URGENT,
            }
        )
    return list(buildings.values())


def _wider_radius(radius_m: int) -> int | None:
    wider = [metres for metres in settings.NEARBY_RADIUS_CHOICES_M if metres > radius_m]
    return wider[0] if wider else None


def _render(request: HttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    fragment = request.headers.get(FRAGMENT_HEADER) == FRAGMENT_VALUE
    template = "aid_posts/_nearby_results.html" if fragment else "aid_posts/nearby.html"
    response = render(request, template, context, status=status)
    # The same URL answers with the page or the partial: caches must keep them apart.
    patch_vary_headers(response, [FRAGMENT_HEADER])
    return response


@login_required
def post_nearby(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not can_use_location(user):
        # The origin is the person's home building: without their location consent we do not
        # measure from it at all, rather than list requests in an order that reveals it.
        return _render(request, {"needs_consent": True, "is_minor": is_minor(user)})
    homes = [
        (membership.home_place_id, f"{membership.community.name} · {membership.home_place.name}")
        for membership in neighbor_selectors.memberships_of(user)
        if membership.status == Membership.Status.APPROVED
    ]
    if not homes:
        return _render(request, {"no_community": True})

    data = request.GET.copy()
    data.setdefault("building", str(homes[0][0]))
    data.setdefault("radius", str(DEFAULT_RADIUS_M))
    data.setdefault("sort", SORT_DISTANCE)
    form = NearbyForm(
        data,
        homes=homes,
        places=neighbor_selectors.places_in(communities_visible_to(user)),
        categories=skills(),
    )
    if not form.is_valid():
        return _render(request, {"form": form}, status=400)
    choice = form.cleaned_data
    try:
        page: NearbyPage = posts_near(
            user,
            origin=choice["building"],
            radius_m=choice["radius"],
            category=choice["category"],
            urgency=choice["urgency"],
            sort=choice["sort"],
            page=choice["page"] or 1,
            page_size=PAGE_SIZE,
        )
    except ValueError:
        # The form's choices keep the selector's bounds; this is a settings list out of range.
        form.add_error("radius", _("Choose one of the distances offered."))
        return _render(request, {"form": form}, status=400)
    radius = choice["radius"]
    wider = _wider_radius(radius)
    filtered = choice["category"] is not None or choice["urgency"] is not None
    return _render(
        request,
        {
            "form": form,
            "page": page,
            "radius_label": radius_label(radius),
            "filter_query": form.filter_query(),
            "wider_radius_label": radius_label(wider) if wider else "",
            "wider_query": form.filter_query(radius=wider) if wider else "",
            "unfiltered_query": form.filter_query(category="", urgency="") if filtered else "",
            "map_buildings": _map_buildings(page.rows),
            "map_config": {
                "tileUrl": settings.MAP_TILE_URL,
                "attribution": settings.MAP_TILE_ATTRIBUTION,
                "labels": {
                    "updated": _("List updated"),
                    "noTiles": _(
                        "No map tiles are set up here: the requests' buildings are shown on a plain background."
                    ),
                    "tilesFailed": _(
                        "The map tiles could not be loaded: the requests' buildings are shown on a plain background."
                    ),
                    # The count's plural form is chosen in the page by Intl.PluralRules: English
                    # has "one" and "other", Chinese only "other".
                    "requests": {
                        form: ngettext("%(count)s open request", "%(count)s open requests", count)
                        for form, count in (("one", 1), ("other", 2))
                    },
                    "urgent": _("Urgent"),
                },
            },
        },
    )
