"""The demo as a whole: each app's builder in the order they depend on each other, and the logins it prints."""

from accounts import demo as accounts_demo
from accounts.demo import DEMO_PASSWORD
from events import demo as events_demo
from events.matchmaking import demo as matchmaking_demo
from hubs import demo as hubs_demo
from members import demo as members_demo
from newsletters import demo as newsletters_demo

# Each has `seed(*, rng, stdout)`; running it again changes nothing that is already there.
BUILDERS = [accounts_demo, hubs_demo, members_demo, events_demo, matchmaking_demo, newsletters_demo]


def logins() -> list[tuple[str, str, str]]:
    return [
        ("staff (admin, sets up TOTP at first visit)", "staff@dlsc.example", DEMO_PASSWORD),
        ("member", "member@dlsc.example", DEMO_PASSWORD),
        ("hub staff, Aarhus (admin, TOTP at first visit)", "aarhus-staff@dlsc.example", DEMO_PASSWORD),
        ("company admin", "admin1@demo-company.example", DEMO_PASSWORD),
        ("matchmaking participant", "match1@dlsc.example", DEMO_PASSWORD),
    ]
