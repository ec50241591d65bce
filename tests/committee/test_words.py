"""The sensitive-word list: each committee keeps its community's words (grid workers read them),
the district's words are shown read-only, a word already listed in any spelling is refused, and
each change is on the record. A listed word holds new requests for review at once."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from aid_posts.models import AidPost
from aid_posts.services import aid_post_create
from committee.services.words import sensitive_word_add, sensitive_word_remove
from neighbors.models import AuditEntry, SensitiveWord
from tests.factories import CommunityFactory, MembershipFactory, skill, window

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def add(client, community, word):
    return client.post(reverse("committee:word_add", args=[community.pk]), {"word": word}, HTTP_ACCEPT_LANGUAGE="en")


def page(client):
    return client.get(reverse("committee:words"), HTTP_ACCEPT_LANGUAGE="en")


def word_errors(response) -> list[str]:
    [section_form] = [form for section, form in response.context["sections"] if form is not None and form.is_bound]
    return section_form.errors["word"]


class TestAdd:
    def test_the_committee_adds_a_word_and_new_requests_with_it_are_held(
        self, client, committee, community, building, resident
    ):
        client.force_login(committee)

        response = add(client, community, "  高利贷 ")

        assert response.status_code == 302
        word = SensitiveWord.objects.get()
        assert (word.community, word.word, word.created_by) == (community, "高利贷", committee)
        entry = AuditEntry.objects.get()
        assert (entry.actor, entry.action, entry.community, entry.target, entry.detail) == (
            committee,
            AuditEntry.Action.SENSITIVE_WORD_ADDED,
            community,
            f"sensitive_word:{word.pk}",
            {"word": "高利贷"},
        )
        post = aid_post_create(
            **window(),
            actor=resident,
            community=community,
            category=skill(),
            title="借钱",
            description="高 利 贷 可以吗",
            place=building,
        )
        assert post.status == AidPost.Status.HELD

    @pytest.mark.parametrize("spelling", ["微信", "微 信", "微-信", "ＷＸ", "wx", " W.X "])
    def test_a_word_that_folds_like_a_listed_one_is_refused(self, committee, community, spelling):
        SensitiveWord.objects.create(community=community, word="微信")
        SensitiveWord.objects.create(community=community, word="WX")

        with pytest.raises(ValidationError, match="already on the list"):
            sensitive_word_add(actor=committee, community=community, word=spelling)

        assert SensitiveWord.objects.count() == 2
        assert not AuditEntry.objects.exists()

    def test_a_district_word_is_not_listed_again(self, client, committee, community):
        SensitiveWord.objects.create(word="转账")
        client.force_login(committee)

        response = add(client, community, "转 账")

        assert response.status_code == 400
        assert word_errors(response) == [
            "“转 账” is already on the district's list, which holds it in every community."
        ]
        assert SensitiveWord.objects.count() == 1

    def test_another_communitys_word_does_not_count(self, committee, community):
        SensitiveWord.objects.create(community=CommunityFactory(), word="转账")
        sensitive_word_add(actor=committee, community=community, word="转账")
        assert SensitiveWord.objects.filter(community=community, word="转账").exists()

    @pytest.mark.parametrize(
        ("word", "message"),
        [
            ("", "Write the word or phrase to add."),
            ("   ", "Write the word or phrase to add."),
            ("…—!!", "Spaces and punctuation alone cannot be listed: write letters or characters."),
            ("长" * 51, "Keep it under 50 characters: a long phrase is rarely written the same way."),
        ],
        ids=["empty", "blank", "punctuation", "too-long"],
    )
    def test_bad_words_are_refused_clearly(self, client, committee, community, word, message):
        client.force_login(committee)

        response = add(client, community, word)

        assert response.status_code == 400
        assert word_errors(response) == [message]
        assert message in response.content.decode()
        with pytest.raises(ValidationError) as refused:
            sensitive_word_add(actor=committee, community=community, word=word)
        assert refused.value.message_dict == {"word": [message]}
        assert not SensitiveWord.objects.exists()
        assert not AuditEntry.objects.exists()

    def test_a_grid_worker_reads_the_list_but_cannot_add(self, client, grid_worker, community):
        SensitiveWord.objects.create(community=community, word="转账")
        client.force_login(grid_worker)

        listing = page(client)
        assert listing.status_code == 200
        [(section, form)] = listing.context["sections"]
        assert (section.community, section.editable, form) == (community, False, None)
        assert "转账" in listing.content.decode()
        assert reverse("committee:word_add", args=[community.pk]) not in listing.content.decode()

        response = add(client, community, "高利贷")
        assert response.status_code == 403
        assert 'id="change-denied"' in response.content.decode()
        with pytest.raises(PermissionDenied):
            sensitive_word_add(actor=grid_worker, community=community, word="高利贷")
        assert SensitiveWord.objects.count() == 1

    def test_another_communitys_committee_gets_404(self, client, committee, community):
        elsewhere = CommunityFactory()
        stranger = MembershipFactory(community=elsewhere, role="committee").user
        client.force_login(stranger)
        assert add(client, community, "高利贷").status_code == 404
        with pytest.raises(PermissionDenied):
            sensitive_word_add(actor=stranger, community=community, word="高利贷")
        assert not SensitiveWord.objects.exists()


class TestRemove:
    def test_the_committee_removes_a_word_on_the_record(self, client, committee, community):
        word = sensitive_word_add(actor=committee, community=community, word="转账")
        client.force_login(committee)

        response = client.post(reverse("committee:word_remove", args=[word.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="en")

        assert [str(m) for m in response.context["messages"]] == ["“转账” is off the list."]
        assert not SensitiveWord.objects.exists()
        removed = AuditEntry.objects.get(action=AuditEntry.Action.SENSITIVE_WORD_REMOVED)
        assert (removed.actor, removed.community, removed.target, removed.detail) == (
            committee,
            community,
            f"sensitive_word:{word.pk}",
            {"word": "转账"},
        )

    def test_twice_is_a_clear_error(self, committee, community):
        word = sensitive_word_add(actor=committee, community=community, word="转账")
        sensitive_word_remove(actor=committee, word=word)
        with pytest.raises(ValidationError, match="no longer on the list"):
            sensitive_word_remove(actor=committee, word=word)
        assert AuditEntry.objects.filter(action=AuditEntry.Action.SENSITIVE_WORD_REMOVED).count() == 1

    def test_district_words_are_read_only_here(self, client, committee):
        district = SensitiveWord.objects.create(word="转账")
        client.force_login(committee)

        listing = page(client)
        assert list(listing.context["district"]) == [district]
        html = listing.content.decode()
        assert "Set by the district" in html
        assert reverse("committee:word_remove", args=[district.pk]) not in html

        assert client.post(reverse("committee:word_remove", args=[district.pk])).status_code == 403
        with pytest.raises(PermissionDenied):
            sensitive_word_remove(actor=committee, word=district)
        assert SensitiveWord.objects.filter(pk=district.pk).exists()
        assert not AuditEntry.objects.exists()

    def test_grid_workers_and_strangers_cannot_remove(self, client, committee, grid_worker, community):
        word = sensitive_word_add(actor=committee, community=community, word="转账")
        client.force_login(grid_worker)
        assert client.post(reverse("committee:word_remove", args=[word.pk])).status_code == 403
        stranger = MembershipFactory(community=CommunityFactory(), role="committee").user
        client.force_login(stranger)
        assert client.post(reverse("committee:word_remove", args=[word.pk])).status_code == 404
        assert client.get(reverse("committee:word_remove", args=[word.pk])).status_code == 405
        assert SensitiveWord.objects.filter(pk=word.pk).exists()


class TestPage:
    def test_residents_are_refused_and_visitors_sent_to_log_in(self, client, resident):
        assert client.get(reverse("committee:words")).status_code == 302
        client.force_login(resident)
        response = page(client)
        assert response.status_code == 403
        assert 'id="workspace-denied"' in response.content.decode()
        assert client.post(reverse("committee:word_add", args=[1]), {"word": "x"}).status_code == 404

    def test_each_community_the_viewer_works_for_with_its_own_words(self, client, committee, community):
        other = CommunityFactory(name="另一个社区")
        MembershipFactory(user=committee, community=other, role="grid_worker")
        SensitiveWord.objects.create(community=community, word="转账")
        SensitiveWord.objects.create(community=other, word="高利贷")
        SensitiveWord.objects.create(community=CommunityFactory(), word="别处的词")
        client.force_login(committee)

        sections = {section.community: (section, form) for section, form in page(client).context["sections"]}

        assert set(sections) == {community, other}
        assert [w.word for w in sections[community][0].words] == ["转账"]
        assert sections[community][0].editable and sections[community][1] is not None
        assert [w.word for w in sections[other][0].words] == ["高利贷"]
        assert not sections[other][0].editable and sections[other][1] is None
        assert "别处的词" not in page(client).content.decode()

    def test_the_page_takes_the_same_queries_for_2_and_20_words(self, client, committee, community):
        client.force_login(committee)
        SensitiveWord.objects.create(word="district")
        for number in range(2):
            sensitive_word_add(actor=committee, community=community, word=f"词{number}")
        with CaptureQueriesContext(connection) as few:
            assert page(client).status_code == 200
        for number in range(2, 20):
            sensitive_word_add(actor=committee, community=community, word=f"词{number}")
        with CaptureQueriesContext(connection) as many:
            assert page(client).status_code == 200
        assert len(many.captured_queries) == len(few.captured_queries)
