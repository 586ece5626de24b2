"""The article's published models ("GAN Failure Modes: How to Identify and Monitor Them"), as
reference for the tests: ganwatch's models must match them, and the Monitor's test trains them
in the article's own loop."""

from torch import nn


class ArticleGenerator(nn.Module):
    """The article's published generator, as reference."""

    def __init__(self, latent_space):
        super().__init__()
        self.fcn = nn.Sequential(nn.Linear(latent_space, 128 * 7 * 7), nn.LeakyReLU(0.2))
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(128, 128, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(128, 128, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(128, 1, 3, padding=1),
            nn.Tanh(),
        )

    def forward(self, x):
        return self.deconv(self.fcn(x).view(-1, 128, 7, 7))


class ArticleDiscriminator(nn.Module):
    """The article's published discriminator (sigmoid output), as reference."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 64, 4, 2, 1),
            nn.LeakyReLU(0.2),
        )
        self.classifier = nn.Sequential(nn.Linear(3136, 1), nn.Sigmoid())

    def forward(self, x):
        return self.classifier(self.conv(x).view(x.size(0), -1))
