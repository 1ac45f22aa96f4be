"""The sandbox console: the emulated Slack workspace and tailnet in a browser.

Every click goes through the Slack emulator's driver (delivered to the app as Slack
delivers it); the console only renders what the emulators and the ACCESS stream hold.
"""
