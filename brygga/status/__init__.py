"""The resident follows the case: changes read from case systems, translated into canonical status events, told to
the resident (Mina sidor, Mina meddelanden) and published on the bus."""
