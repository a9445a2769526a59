unsub-title = 退订
unsub-confirm = 停止 { $workspace } 发送到 { $email } 的邮件？
unsub-button = 退订
unsub-done-title = 您已退订
unsub-done = { $email } 将不再收到 { $workspace } 的营销邮件。
unsub-invalid-title = 链接无效
unsub-invalid = 此链接无效或已过期。
