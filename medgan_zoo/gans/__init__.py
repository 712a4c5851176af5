"""GANs: the contract every GAN plugin implements (:mod:`.base`) and the built-in DCGAN family.

Nothing heavy is imported here; torch-based modules are imported by the spec factories.
"""
