"""The contracts: what travels on the ACCESS stream, apart from the runtime that moves it.

Commands and events (`events`), the CloudEvents envelope (`cloudevents`), NATS names
(`subjects`), the email form (`emails`) and the examples the AsyncAPI shows (`examples`).
Nothing here does I/O or imports the runtime (a test checks it).
"""
