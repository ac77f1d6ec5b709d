// Submits the sign-out form of a logout that needs no confirmation (a registered return URL).
document.getElementById('op.logoutForm')?.submit();
