"""Matchmaking at events: profiles, meeting requests, the meeting scheduler and agendas."""
