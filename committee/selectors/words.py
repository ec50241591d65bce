"""Reads for the sensitive-word page."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from neighbors.models import Community, SensitiveWord, User
from neighbors.permissions import committee_communities, staff_communities


@dataclass(frozen=True)
class CommunityWords:
    """One community's own words, and whether the viewer may change them (its committee may;
    its grid workers read them)."""

    community: Community
    words: list[SensitiveWord]
    editable: bool


@dataclass(frozen=True)
class WordLists:
    communities: list[CommunityWords]
    # For every community, set by the district (the site admin): read-only here.
    district: list[SensitiveWord]


def words_visible_to(user: User) -> QuerySet[SensitiveWord]:
    """The district's words and those of the communities the person works for."""
    return SensitiveWord.objects.filter(Q(community__in=staff_communities(user).values("pk")) | Q(community=None))


def sensitive_words_for(user: User) -> WordLists:
    """Three queries whatever the number of words: the communities, the viewer's committee
    seats, and the words themselves."""
    communities = list(staff_communities(user).order_by("name", "pk"))
    editable = set(committee_communities(user).values_list("pk", flat=True))
    by_community: dict[int | None, list[SensitiveWord]] = defaultdict(list)
    for word in words_visible_to(user).select_related("created_by__profile").order_by("word", "pk"):
        by_community[word.community_id].append(word)
    return WordLists(
        communities=[
            CommunityWords(community=community, words=by_community[community.pk], editable=community.pk in editable)
            for community in communities
        ],
        district=by_community[None],
    )
