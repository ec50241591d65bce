"""Distances between buildings, and how they may be shown to other people.

Only building-level coordinates exist, and they never leave the server: pages get a
distance rounded to 100 m, so nobody can triangulate a person's home from them.
"""

import math
from decimal import Decimal

from django.db.models import Q
from geopy.distance import EARTH_RADIUS, geodesic

from .models import Place

ROUNDING_M = 100
# A degree of latitude is shortest at the equator (110,574 m): a radius divided by that, plus
# a margin for rounding the box to the columns' six decimals, makes a box that holds the circle.
METRES_PER_DEGREE_AT_LEAST = 110_574
BOX_MARGIN = 1.01


def distance_m(a: Place, b: Place) -> float:
    """The geodesic distance in metres between two buildings."""
    return geodesic((a.latitude, a.longitude), (b.latitude, b.longitude)).meters


def great_circle_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """geopy's great-circle distance in metres (its sphere, its mean Earth radius) between two
    (latitude, longitude) pairs, without building geopy Point objects: ~0.5 µs a pair instead
    of ~20 µs, for ranking hundreds of buildings. Within 0.56 % of the geodesic; a test holds
    it to geopy's own great_circle."""
    latitude_a, longitude_a, latitude_b, longitude_b = map(math.radians, (*a, *b))
    h = (
        math.sin((latitude_b - latitude_a) / 2) ** 2
        + math.cos(latitude_a) * math.cos(latitude_b) * math.sin((longitude_b - longitude_a) / 2) ** 2
    )
    return 2 * EARTH_RADIUS * 1000 * math.asin(min(1.0, math.sqrt(h)))


def rounded_distance_m(a: Place, b: Place) -> int:
    """The distance rounded to the nearest 100 m: what a page may show."""
    return int(round(distance_m(a, b) / ROUNDING_M)) * ROUNDING_M


def _degrees(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def bounding_box_q(origin: Place, radius_m: float, prefix: str = "") -> Q:
    """Places whose indexed latitude and longitude fall in a box around the circle: a cheap first cut."""
    latitude, longitude = float(origin.latitude), float(origin.longitude)
    delta_latitude = radius_m * BOX_MARGIN / METRES_PER_DEGREE_AT_LEAST
    south, north = latitude - delta_latitude, latitude + delta_latitude
    box = Q(**{f"{prefix}latitude__gte": _degrees(south), f"{prefix}latitude__lte": _degrees(north)})
    if south <= -90 or north >= 90:
        return box  # the circle takes in a pole, and with it every longitude
    # A degree of longitude shrinks with the cosine of the latitude: measure at the edge nearer the pole.
    delta_longitude = delta_latitude / math.cos(math.radians(max(abs(south), abs(north))))
    if delta_longitude >= 180:
        return box
    west, east = longitude - delta_longitude, longitude + delta_longitude
    # Across the antimeridian the box is two boxes.
    if west < -180:
        west += 360
    elif east > 180:
        east -= 360
    west_q = Q(**{f"{prefix}longitude__gte": _degrees(west)})
    east_q = Q(**{f"{prefix}longitude__lte": _degrees(east)})
    return box & ((west_q | east_q) if west > east else (west_q & east_q))
