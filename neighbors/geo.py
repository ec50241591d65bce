"""Distances between buildings, and how they may be shown to other people.

Only building-level coordinates exist, and they never leave the server: pages get a
distance rounded to 100 m, so nobody can triangulate a person's home from them.
"""

from geopy.distance import geodesic

from .models import Place

ROUNDING_M = 100


def distance_m(a: Place, b: Place) -> float:
    """The geodesic distance in metres between two buildings."""
    return geodesic((a.latitude, a.longitude), (b.latitude, b.longitude)).meters


def rounded_distance_m(a: Place, b: Place) -> int:
    """The distance rounded to the nearest 100 m: what a page may show."""
    return int(round(distance_m(a, b) / ROUNDING_M)) * ROUNDING_M
