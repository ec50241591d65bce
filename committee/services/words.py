"""The committee's sensitive-word list: new requests and messages with a listed word are held
for review (see neighbors.selectors.sensitive_words_in). Each community's committee keeps its
own words; the district's words, for every community, are the site admin's (Django admin)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from neighbors.models import AuditEntry, Community, SensitiveWord, User
from neighbors.permissions import is_committee
from neighbors.selectors import fold_text
from neighbors.services import audit_record

WORD_MAX_LENGTH = SensitiveWord._meta.get_field("word").max_length


def _word_clean(word: str) -> str:
    word = word.strip()
    if not word:
        raise ValidationError({"word": _("Write the word or phrase to add.")})
    if len(word) > WORD_MAX_LENGTH:
        message = _("Keep it under %(limit)d characters: a long phrase is rarely written the same way.")
        raise ValidationError({"word": message % {"limit": WORD_MAX_LENGTH}})
    if not fold_text(word):
        # Matching ignores spaces and punctuation: such a "word" would never hold anything.
        message = _("Spaces and punctuation alone cannot be listed: write letters or characters.")
        raise ValidationError({"word": message})
    return word


def _already_listed(word: str, listed: SensitiveWord) -> ValidationError:
    if listed.community_id is None:
        message = _("“%(word)s” is already on the district's list, which holds it in every community.")
    elif listed.word == word:
        message = _("“%(word)s” is already on the list.")
    else:
        message = _("“%(word)s” is already on the list, written “%(listed)s”: they match the same text.")
    return ValidationError({"word": message % {"word": word, "listed": listed.word}})


@transaction.atomic
def sensitive_word_add(*, actor: User, community: Community, word: str) -> SensitiveWord:
    """List a word for the community, unless it or a word folding alike is already listed there
    or district-wide. On the record, with who added it."""
    if not is_committee(actor, community):
        raise PermissionDenied
    word = _word_clean(word)
    # One addition per community at a time (the row lock on PostgreSQL, SQLite's IMMEDIATE
    # transaction): two members adding "微信" and "微 信" at once cannot both get in.
    Community.objects.select_for_update().filter(pk=community.pk).exists()
    folded = fold_text(word)
    for listed in SensitiveWord.objects.filter(Q(community=community) | Q(community__isnull=True)).order_by("pk"):
        if fold_text(listed.word) == folded:
            raise _already_listed(word, listed)
    entry = SensitiveWord(community=community, word=word, created_by=actor)
    entry.full_clean(exclude=["community", "created_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        listed = SensitiveWord.objects.filter(community=community, word=word).first()
        if listed is None:
            raise
        raise _already_listed(word, listed) from None
    audit_record(
        actor=actor,
        action=AuditEntry.Action.SENSITIVE_WORD_ADDED,
        community=community,
        target=f"sensitive_word:{entry.pk}",
        detail={"word": word},
    )
    return entry


@transaction.atomic
def sensitive_word_remove(*, actor: User, word: SensitiveWord) -> None:
    """Take a word off the community's list; what it already held stays for review. The
    district's words are not the committee's to remove."""
    if word.community_id is None or not is_committee(actor, word.community):
        raise PermissionDenied
    deleted, _rows = SensitiveWord.objects.filter(pk=word.pk).delete()
    if not deleted:
        raise ValidationError(_("“%(word)s” is no longer on the list.") % {"word": word.word})
    audit_record(
        actor=actor,
        action=AuditEntry.Action.SENSITIVE_WORD_REMOVED,
        community=word.community_id,
        target=f"sensitive_word:{word.pk}",
        detail={"word": word.word},
    )
