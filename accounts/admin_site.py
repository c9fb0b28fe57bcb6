"""The staff site: Django's admin behind a password and a TOTP second factor.

Every admin page needs a session verified by django-otp (`request.user.is_verified()`). After
the password the login redirects to the second-factor step; a staff member without a device
is sent to enrol one first. A wrong code counts as a failed sign-in for django-axes, so the
same per-username-and-address lockout covers both factors.
"""

from typing import Any

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django import forms
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts import mfa
from core.audit import audit_record


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_otp_token(self) -> str:
        return "".join(self.cleaned_data["otp_token"].split())


class MailboxCodeForm(forms.Form):
    mailbox_code = forms.CharField(
        label=_("Code from the email"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_mailbox_code(self) -> str:
        return "".join(self.cleaned_data["mailbox_code"].split())


def _masked(email: str) -> str:
    """Enough of the address to recognise it, not enough to learn it from the page."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def is_verified(user: Any) -> bool:
    """Whether the session passed the second factor. OTPMiddleware equips `request.user` with
    `is_verified()`; the user a password login just put on the request has not got it yet."""
    check = getattr(user, "is_verified", None)
    return bool(check is not None and check())


def _awaits_second_factor(request: HttpRequest) -> bool:
    user: Any = request.user
    return bool(
        user.is_authenticated and user.is_active and user.is_staff and not is_verified(user)
    )


class StaffAdminSite(admin.AdminSite):
    site_header = _("consular staff")
    site_title = _("consular staff")

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and is_verified(request.user)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        return [
            path("otp/", self.otp_verify, name="otp_verify"),
            path("otp/enrol/", self.otp_enrol, name="otp_enrol"),
            *super().get_urls(),
        ]

    def _next_url(self, request: HttpRequest) -> str:
        candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
        return reverse("admin:index", current_app=self.name)

    def _step_url(self, name: str, next_url: str) -> str:
        url = reverse(f"admin:{name}", current_app=self.name)
        return f"{url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if request.method == "GET" and _awaits_second_factor(request):
            return redirect(self._step_url("otp_verify", self._next_url(request)))
        response = super().login(request, extra_context)
        if request.method == "POST" and _awaits_second_factor(request):
            # The password was right: the session now waits for the second factor.
            next_url = response.url if isinstance(response, HttpResponseRedirect) else ""
            return redirect(self._step_url("otp_verify", next_url or self._next_url(request)))
        return response

    def _refuse_if_locked(self, request: HttpRequest) -> HttpResponse | None:
        credentials = {"username": request.user.get_username()}
        if not AxesProxyHandler.is_locked(request, credentials):
            return None
        logout(request)
        return get_lockout_response(request, None, credentials)

    def _count_failure(self, request: HttpRequest) -> HttpResponse | None:
        """A wrong code is a failed sign-in: audited, and counted towards the lockout."""
        username = request.user.get_username()
        user_login_failed.send(
            sender=type(self), credentials={"username": username}, request=request
        )
        if getattr(request, "axes_locked_out", False):
            logout(request)
            return get_lockout_response(request, None, {"username": username})
        return None

    def _step_context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {
            **self.each_context(request),
            "next": self._next_url(request),
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
            **extra,
        }

    @method_decorator(sensitive_post_parameters("otp_token"))
    @method_decorator(csrf_protect)
    @method_decorator(never_cache)
    def otp_verify(self, request: HttpRequest) -> HttpResponse:
        if not _awaits_second_factor(request):
            return redirect(self._step_url("login", self._next_url(request)))
        user: Any = request.user
        device = mfa.totp_device_confirmed(user=user)
        if device is None:
            return redirect(self._step_url("otp_enrol", self._next_url(request)))
        locked = self._refuse_if_locked(request)
        if locked is not None:
            return locked
        form = TokenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            verified = django_otp.verify_token(
                user, device.persistent_id, form.cleaned_data["otp_token"]
            )
            if verified is not None:
                django_otp.login(request, verified)
                request.session.cycle_key()
                return redirect(self._next_url(request))
            locked = self._count_failure(request)
            if locked is not None:
                return locked
            form.add_error("otp_token", _("This code is not valid. Try the current one."))
        context = self._step_context(request, title=_("Second factor"), form=form)
        return TemplateResponse(request, "accounts/otp_verify.html", context)

    @method_decorator(sensitive_post_parameters("otp_token", "mailbox_code"))
    @method_decorator(csrf_protect)
    @method_decorator(never_cache)
    def otp_enrol(self, request: HttpRequest) -> HttpResponse:
        if not _awaits_second_factor(request):
            return redirect(self._step_url("login", self._next_url(request)))
        user: Any = request.user
        # Enrolment is for a first device only: once one exists, a password alone can neither
        # see its secret nor add another.
        if mfa.totp_device_confirmed(user=user) is not None:
            return redirect(self._step_url("otp_verify", self._next_url(request)))
        locked = self._refuse_if_locked(request)
        if locked is not None:
            return locked
        if not mfa.mailbox_proved(user=user, session=request.session):
            return self._mailbox_step(request, user)
        device = mfa.totp_enrolment_start(user=user)
        form = TokenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if mfa.totp_enrolment_confirm(device=device, token=form.cleaned_data["otp_token"]):
                device.refresh_from_db()
                audit_record(request=request, action="otp_enrolled", obj=device)
                django_otp.login(request, device)
                request.session.cycle_key()
                return redirect(self._next_url(request))
            locked = self._count_failure(request)
            if locked is not None:
                return locked
            form.add_error("otp_token", _("This code is not valid. Try the current one."))
        context = self._step_context(
            request,
            title=_("Set up your second factor"),
            form=form,
            secret=mfa.totp_secret_base32(device),
            otpauth_uri=device.config_url,
            qrcode_svg=mfa.totp_qrcode_svg(device),
        )
        return TemplateResponse(request, "accounts/otp_enrol.html", context)

    def _mailbox_step(self, request: HttpRequest, user: Any) -> HttpResponse:
        """Prove the mailbox first: the code is sent on arrival, again on request (not more
        than once a minute); a wrong code counts as a failed sign-in."""
        title = _("Set up your second factor")
        if not user.email:
            context = self._step_context(request, title=title, form=None)
            return TemplateResponse(request, "accounts/otp_mailbox.html", context)
        form = MailboxCodeForm(request.POST if "mailbox_code" in request.POST else None)
        sent = False
        if "resend" in request.POST or not mfa.mailbox_challenge_pending(
            user=user, session=request.session
        ):
            sent = mfa.mailbox_challenge_send(user=user, session=request.session)
        elif form.is_valid():
            code = form.cleaned_data["mailbox_code"]
            if mfa.mailbox_challenge_answer(user=user, session=request.session, code=code):
                return redirect(request.get_full_path())
            locked = self._count_failure(request)
            if locked is not None:
                return locked
            form.add_error(
                "mailbox_code",
                _(
                    "This code is not valid or has expired. Use the latest email, "
                    "or ask for a new code."
                ),
            )
        context = self._step_context(
            request, title=title, form=form, sent=sent, email_hint=_masked(user.email)
        )
        return TemplateResponse(request, "accounts/otp_mailbox.html", context)
