"""Periodic matchmaking work: expire unanswered requests, mail agendas the day before, ask for feedback after."""

from celery import shared_task

from events.matchmaking import services


@shared_task(acks_late=True)
def requests_expire_task():
    return services.requests_expire()


@shared_task(acks_late=True)
def agendas_send_day_before_task():
    return services.agendas_send_day_before()


@shared_task(acks_late=True)
def feedback_requests_send_task():
    return services.feedback_requests_send()
