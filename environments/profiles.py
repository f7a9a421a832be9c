"""Runtime profiles: how a Docker host starts an environment's DinD container.

A profile is chosen per host by an admin, never by the user asking for an environment,
so no input can ask for privileged mode, host mounts or the host network.
"""

HARDENED = "hardened"
PRIVILEGED = "privileged"
SYSBOX = "sysbox"

CHOICES = [
    (HARDENED, "Hardened (no --privileged, minimal capabilities)"),
    (PRIVILEGED, "Privileged (the classic docker:dind way)"),
    (SYSBOX, "Sysbox (runtime sysbox-runc)"),
]

# Measured on Debian 12 hosts (shared/ENGINE-NOTES.md): Docker's default capabilities
# plus SYS_ADMIN (mounts, for the cgroup fix-up and overlay2) and NET_ADMIN (the nested
# bridge and iptables) are the narrowest set with which a nested `docker run` works.
# The default seccomp profile blocks the keyring calls nested runc makes, hence unconfined.
# A private cgroup namespace puts nested containers' cgroups under the environment's
# own, so its memory, CPU and pids limits cap everything nested in it.
_HARDENED_OPTIONS = {
    "cap_add": ["SYS_ADMIN", "NET_ADMIN"],
    "security_opt": ["seccomp=unconfined", "apparmor=unconfined"],
    "cgroupns": "private",
}


def container_options(profile: str) -> dict:
    """docker-py keyword arguments that make a container of this profile."""
    if profile == HARDENED:
        return {key: list(value) if isinstance(value, list) else value
                for key, value in _HARDENED_OPTIONS.items()}
    if profile == PRIVILEGED:
        return {"privileged": True, "cgroupns": "private"}
    if profile == SYSBOX:
        # Sysbox virtualises /proc, /sys and cgroups itself: no extra rights at all.
        return {"runtime": "sysbox-runc"}
    raise ValueError(f"Unknown runtime profile {profile!r}.")
