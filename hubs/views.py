"""Public hub pages: the list. A hub's own page gathers events and members too, so it lives in dlsc/views.py."""

from django.shortcuts import render

from hubs.selectors import hub_list


def hub_index(request):
    return render(request, "hubs/hub_list.html", {"hubs": hub_list()})
