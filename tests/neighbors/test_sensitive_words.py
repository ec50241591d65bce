"""The sensitive-word list: a word matches however it is dressed up (width, case, spaces and
punctuation in between), and a community's own words apply in that community only."""

import pytest

from neighbors.models import SensitiveWord
from neighbors.selectors import sensitive_words_in
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(community):
    SensitiveWord.objects.create(word="微信")
    SensitiveWord.objects.create(word="WX123")
    SensitiveWord.objects.create(word="转账", community=community)


@pytest.mark.parametrize(
    "text",
    [
        "加我微信",
        "加我微 信",
        "加我微.信聊",
        "微_信",
        "微\n信",
        "加我 wx123",
        "加我 ＷＸ１２３",
        "w x-1 2 3",
    ],
)
def test_a_listed_word_matches_through_width_case_spaces_and_punctuation(listed, community, text):
    assert sensitive_words_in(text, community_id=community.pk)


@pytest.mark.parametrize("text", ["明天上午九点可以吗？", "微笑着说信来了", "wx12"])
def test_ordinary_text_matches_nothing(listed, community, text):
    assert sensitive_words_in(text, community_id=community.pk) == []


def test_the_words_found_are_named_once_each_sorted(listed, community):
    found = sensitive_words_in("先转账，再加微信，微信号 wx123", community_id=community.pk)

    assert found == sorted(["WX123", "微信", "转账"])


def test_a_word_listed_with_spaces_matches_text_without(community):
    SensitiveWord.objects.create(word="银行 卡号")

    assert sensitive_words_in("把银行卡号发我", community_id=community.pk) == ["银行 卡号"]


def test_a_communitys_own_words_apply_only_there(listed, community):
    elsewhere = CommunityFactory()

    assert sensitive_words_in("先转账", community_id=community.pk) == ["转账"]
    assert sensitive_words_in("先转账", community_id=elsewhere.pk) == []
    assert sensitive_words_in("先转账", community_id=None) == []


def test_district_wide_words_apply_everywhere(listed, community):
    for community_id in (community.pk, CommunityFactory().pk, None):
        assert sensitive_words_in("加我微信", community_id=community_id) == ["微信"]


def test_a_word_of_punctuation_only_never_matches_everything(community):
    SensitiveWord.objects.create(word="！！")

    assert sensitive_words_in("你好！！", community_id=community.pk) == []
