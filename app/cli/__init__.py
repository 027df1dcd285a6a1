"""The `illdesk` command line: the automation contract libraries script against."""
