from django import forms

from .models import Quota
from .quotas import LIMIT_FIELDS

# The sizes offered on the create form; the API takes CPUs and memory directly.
SIZES = {
    "small": {"label": "Small: 0.5 CPU, 512 MB", "cpus": 0.5, "memory_mb": 512},
    "medium": {"label": "Medium: 1 CPU, 1 GB", "cpus": 1, "memory_mb": 1024},
    "large": {"label": "Large: 2 CPUs, 2 GB", "cpus": 2, "memory_mb": 2048},
}
LIFETIMES = [(60, "1 hour"), (240, "4 hours"), (480, "8 hours"), (1440, "1 day"), (10080, "1 week")]


class EnvironmentForm(forms.Form):
    """Carries the form's fields to environment_create, which checks every rule itself
    (the API calls the same service, so the rules live in one place)."""

    name = forms.CharField(required=False, strip=True)
    size = forms.ChoiceField(choices=[(key, size["label"]) for key, size in SIZES.items()],
                             initial="medium", error_messages={"invalid_choice": "Choose one of the sizes offered."})
    lifetime_minutes = forms.TypedChoiceField(choices=LIFETIMES, coerce=int, initial=240,
                                              error_messages={"invalid_choice": "Choose one of the lifetimes offered."})

    def service_arguments(self) -> dict:
        size = SIZES[self.cleaned_data["size"]]
        return {"name": self.cleaned_data["name"], "cpus": size["cpus"], "memory_mb": size["memory_mb"],
                "lifetime_minutes": self.cleaned_data["lifetime_minutes"],
                # Checkboxes: the images ticked (the defaults come ticked).
                "preload": self.data.getlist("preload")}

    def first_error(self) -> str:
        for errors in self.errors.values():
            return errors[0]
        return "The form has an error."


class QuotaForm(forms.ModelForm):
    class Meta:
        model = Quota
        fields = LIMIT_FIELDS

    def first_error(self) -> str:
        for field, errors in self.errors.items():
            label = self.fields[field].label if field in self.fields else field
            return f"{label}: {errors[0]}"
        return "The form has an error."
