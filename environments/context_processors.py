def engine_banner(request):
    return {}
