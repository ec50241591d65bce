"""Run as `python -m tests.deploy.seed MEMBERS` with a server's environment: makes a community
with MEMBERS approved residents in one conversation, logs each in through the servers' own
session store, and prints one JSON line: {"conversation": id, "users": [id, ...],
"cookies": ["sessionid=…", ...]}. In a process of its own because the servers' settings (their
SECRET_KEY, their session engine, their database) are not the test run's."""

import json
import sys
import uuid

import django


def main(members: int) -> dict:
    django.setup()
    # After setup: these import models.
    from django.conf import settings
    from django.test import Client

    from messaging.models import Conversation
    from messaging.services import conversation_open
    from tests.factories import CommunityFactory, MembershipFactory, PlaceFactory, UserFactory

    run = uuid.uuid4().hex[:8]
    community = CommunityFactory(name=f"部署测试-{run}")
    building = PlaceFactory(community=community)
    # An unusable password: nobody logs in with one here, and hashing one costs a second.
    people = [UserFactory(username=f"deploy-{run}-{seq}", password="!") for seq in range(members)]
    for person in people:
        MembershipFactory(user=person, community=community, home_place=building)
    conversation = conversation_open(
        kind=Conversation.Kind.CLAIM,
        subject=f"aid_post:deploy-{run}",
        title="修水龙头",
        participants=people,
        community=community,
    )
    cookies = []
    for person in people:
        client = Client()
        client.force_login(person)
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}")
    return {"conversation": conversation.pk, "users": [person.pk for person in people], "cookies": cookies}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
