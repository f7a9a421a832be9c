"""The form admins register and change Docker hosts with."""

from urllib.parse import urlparse

from django import forms

from .models import DockerHost

SCHEMES = ("unix", "tcp", "ssh")
TLS_FIELDS = ("tls_ca", "tls_cert", "tls_key")


class HostForm(forms.ModelForm):
    class Meta:
        model = DockerHost
        fields = ["name", "engine_url", "profile", "max_environments", "max_cpus", "max_memory_mb",
                  "enabled", "draining", "tls_ca", "tls_cert", "tls_key"]
        labels = {"max_environments": "Environments (0: no bound)", "max_cpus": "CPUs (0: no bound)",
                  "max_memory_mb": "Memory MB (0: no bound)", "tls_ca": "TLS CA certificate",
                  "tls_cert": "TLS client certificate", "tls_key": "TLS client key"}
        widgets = {name: forms.Textarea(attrs={"rows": 3, "placeholder": "-----BEGIN ..."}) for name in TLS_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The key is a secret: never sent back to the browser; left empty, it is kept.
        self.initial["tls_key"] = ""
        if self.instance.pk and self.instance.tls_key:
            self.fields["tls_key"].widget.attrs["placeholder"] = "(kept; paste a new key to replace it)"

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_engine_url(self):
        url = self.cleaned_data["engine_url"].strip()
        parsed = urlparse(url)
        if parsed.scheme not in SCHEMES:
            raise forms.ValidationError("The engine URL starts with unix://, tcp:// or ssh://.")
        if parsed.scheme == "unix" and not parsed.path.startswith("/"):
            raise forms.ValidationError("A unix engine URL names a socket path: unix:///var/run/docker.sock.")
        if parsed.scheme in ("tcp", "ssh"):
            try:
                parsed.port  # noqa: B018 - parsing it is the check
            except ValueError:
                raise forms.ValidationError("The engine URL's port must be a number from 1 to 65535.") from None
            if not parsed.hostname:
                example = "tcp://host:2376" if parsed.scheme == "tcp" else "ssh://user@host"
                raise forms.ValidationError(f"A {parsed.scheme} engine URL names a machine: {example}.")
        return url

    def clean_tls_key(self):
        # The page never shows the stored key: left empty, it stays as it was...
        key = self.cleaned_data["tls_key"].strip()
        self.key_kept = not key and bool(self.instance.pk)
        return self.instance.tls_key if self.key_kept else key

    def clean(self):
        data = super().clean()
        if getattr(self, "key_kept", False) and not any((data.get(name) or "").strip()
                                                         for name in TLS_FIELDS if name != "tls_key"):
            data["tls_key"] = ""  # ...unless the CA and certificate were emptied too: no more TLS
        given = [name for name in TLS_FIELDS if (data.get(name) or "").strip()]
        if given and len(given) != len(TLS_FIELDS):
            raise forms.ValidationError("For TLS give all three: the CA certificate, the client certificate"
                                        " and the client key.")
        for name in given:
            if "-----BEGIN" not in data[name]:
                raise forms.ValidationError(f"{self.fields[name].label} must be in PEM form (-----BEGIN ...).")
        if given and not (data.get("engine_url") or "").startswith("tcp://"):
            raise forms.ValidationError("TLS certificates are for tcp:// engine URLs.")
        return data

    def first_error(self) -> str:
        for field, errors in self.errors.items():
            if field == "__all__":
                return errors[0]
            label = self.fields[field].label if field in self.fields else field
            return f"{label}: {errors[0]}"
        return "The form has an error."
