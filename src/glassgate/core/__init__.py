"""The pure decision core: data in, decision out.

Nothing here performs I/O, reads the clock, logs, or touches asyncio; time is
passed in. Adapters build the inputs (``AccessRequest``, ``Principal``) and turn
the output (``Decision``) into an HTTP answer.
"""
