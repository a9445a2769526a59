unsub-title = Unsubscribe
unsub-confirm = Stop emails from { $workspace } to { $email }?
unsub-button = Unsubscribe
unsub-done-title = You are unsubscribed
unsub-done = { $email } will get no more marketing emails from { $workspace }.
unsub-invalid-title = Link not valid
unsub-invalid = This link is not valid or has expired.
