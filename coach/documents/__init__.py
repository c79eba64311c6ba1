"""Documents a rep or manager opens in the phone's in-app browser: the plans and the
coaching report, as self-contained HTML (the Chinese font embedded) behind signed links."""
