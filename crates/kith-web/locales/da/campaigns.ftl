unsub-title = Afmeld
unsub-confirm = Stop e-mails fra { $workspace } til { $email }?
unsub-button = Afmeld
unsub-done-title = Du er afmeldt
unsub-done = { $email } får ikke flere markedsførings-e-mails fra { $workspace }.
unsub-invalid-title = Ugyldigt link
unsub-invalid = Dette link er ugyldigt eller udløbet.
