"""The project as an installed app, so Django finds its management commands (the demo, which drives every app),
and the place where two apps of one layer are wired together."""

from django.apps import AppConfig


class DlscConfig(AppConfig):
    name = "dlsc"
    verbose_name = "DLSC portal"

    def ready(self):
        # Newsletter topics reserved for members: members knows which, newsletters enforces it, the project (the
        # one layer above both) joins them.
        from members.selectors import member_newsletter_topics, user_newsletter_topics
        from newsletters.access import topic_access_register

        topic_access_register(
            reserved=member_newsletter_topics, included=lambda user: user_newsletter_topics(user=user)
        )
