"""Support code for testing RepCoach without a phone: loopback fakes of the Telegram Bot API and
of WeCom, drivers that talk to the bot through each channel as a person would, and the
conversation-transcript runner behind `repcoach test`.

It ships with the package because playbook authors run transcripts (`repcoach test`) and the
benchmarks drive the fakes; none of it is imported by the bot at run time.
"""
