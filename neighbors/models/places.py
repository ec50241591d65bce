"""The place hierarchy: 街道 (street) → 社区 (community) → 网格 (grid) → 楼栋 (building)."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Street(models.Model):
    """街道: the sub-district office that communities belong to."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    """社区: the unit everything on the site happens in."""

    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities", verbose_name=_("street"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        constraints = [models.UniqueConstraint(fields=["street", "name"], name="community_unique_name_in_street")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Grid(models.Model):
    """网格: a few buildings looked after by one or more grid workers."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="grids", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="grid_unique_name_in_community")]
        ordering = ["community__name", "name"]

    def __str__(self) -> str:
        return f"{self.community.name} {self.name}"


class Place(models.Model):
    """楼栋: a building. Coordinates are building-level, never a flat."""

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="places", verbose_name=_("community")
    )
    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, related_name="places", null=True, blank=True, verbose_name=_("grid")
    )
    name = models.CharField(_("name"), max_length=100)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="place_unique_name_in_community")]
        indexes = [models.Index(fields=["latitude", "longitude"], name="place_lat_lng")]
        ordering = ["community__name", "name"]

    def __str__(self) -> str:
        return f"{self.community.name} {self.name}"

    def clean(self) -> None:
        if self.grid_id and self.community_id and self.grid.community_id != self.community_id:
            raise ValidationError({"grid": _("The grid must be in the building's community.")})
