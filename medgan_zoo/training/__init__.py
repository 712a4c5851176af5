"""The training engine shared by every GAN plugin (imported lazily by ``medgan_zoo.train``)."""
