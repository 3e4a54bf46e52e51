"""Matchmaking work for workers: schedule runs and late fits, and the periodic jobs (expire unanswered requests, mail
agendas the day before, ask for feedback after, re-publish or fail stuck schedule runs)."""

from celery import shared_task

from events.matchmaking import services


@shared_task(acks_late=True)
def schedule_run_task(run_id):
    """Solve one queued run; a run gone or already taken is left alone, so a task delivered twice is harmless."""
    services.schedule_run_execute(run_id=run_id)


@shared_task(acks_late=True)
def schedule_runs_sweep_task():
    return services.schedule_runs_sweep()


@shared_task(acks_late=True)
def requests_expire_task():
    return services.requests_expire()


@shared_task(acks_late=True)
def agendas_send_day_before_task():
    return services.agendas_send_day_before()


@shared_task(acks_late=True)
def feedback_requests_send_task():
    return services.feedback_requests_send()
