"""neighbors/geo.py: the fast great circle is geopy's, and the box holds every circle."""

import random

import pytest
from geopy.distance import geodesic, great_circle

from neighbors.geo import great_circle_m

PAIRS = [
    ((24.4781, 118.1453), (24.4781, 118.1453)),  # the same building
    ((24.4781, 118.1453), (24.5230, 118.1970)),  # across a district
    ((0.0, 179.999), (0.0, -179.999)),  # across the antimeridian
    ((89.99, 10.0), (89.99, -170.0)),  # over the pole
    ((-33.86, 151.21), (51.51, -0.13)),  # half the world away
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_the_fast_great_circle_is_geopys(a, b):
    assert great_circle_m(a, b) == pytest.approx(great_circle(a, b).meters, abs=1e-6, rel=1e-9)


def test_it_stays_within_the_spheres_error_of_the_geodesic_nearby():
    rng = random.Random(7)
    for _ in range(500):
        a = (rng.uniform(-60, 60), rng.uniform(-180, 180))
        b = (a[0] + rng.uniform(-0.2, 0.2), a[1] + rng.uniform(-0.2, 0.2))
        exact = geodesic(a, b).meters
        assert abs(great_circle_m(a, b) - exact) <= 0.0056 * exact + 1e-6
