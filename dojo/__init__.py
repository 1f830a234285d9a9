"""concurrency-dojo: learn Python concurrency by fixing it.

Kept empty of imports on purpose: spawn and forkserver children import ``dojo`` when they
unpickle a helper such as ``dojo.race.RendezvousValue``, and every module imported here
would be paid for in every child.
"""

__version__ = "0.1.0"
