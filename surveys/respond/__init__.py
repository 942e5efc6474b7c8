"""The public pages a contact reaches through a personal link: answer, thanks, unsubscribe."""
