"""Public hub pages."""

from django.shortcuts import get_object_or_404, render

from hubs.selectors import hub_list


def hub_index(request):
    return render(request, "hubs/hub_list.html", {"hubs": hub_list()})


def hub_detail(request, slug):
    hub = get_object_or_404(hub_list(), slug=slug)
    return render(request, "hubs/hub_detail.html", {"hub": hub})
