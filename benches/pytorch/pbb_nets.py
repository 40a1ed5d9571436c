"""The stochastic networks of Pérez-Ortiz et al. (2021), written for the side-by-side benchmark.

The same models, objective and optimizer settings as pacbayes (crates/pacbayes-nn and the posterior
training step of crates/pacbayes-bench):

* FCN 784-600-600-600-10 and CNN (conv 1→32 3×3, ReLU, conv 32→64 3×3, ReLU, max-pool 2, flatten,
  fc 9216→128, ReLU, fc 128→10), every weight and bias Gaussian N(μ, σ²) with σ = softplus(ρ);
* forward modes "sample" (one weight draw per minibatch, as in the PBB code) and "local" (local
  reparameterization: pre-activations drawn from N(x·μ + μ_b, x²·σ² + σ_b²));
* closed-form KL(Q‖P) over every weight and bias;
* bounded cross-entropy: log-probabilities clamped below at ln p_min, divided by ln(1/p_min);
* f-quad: (sqrt(r + c) + sqrt(c))² with c = (KL + ln(2√n/δ)) / (2n);
* the deterministic prior nets, with dropout 0.2 after the hidden stages.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

P_MIN = 1e-5
N_BOUND = 30_000
DELTA = 0.025
SIGMA0 = 0.03


def inverse_softplus(sigma):
    return math.log(math.expm1(sigma))


def truncated_normal_(tensor, std):
    """Truncated at two standard deviations, as the PBB code and pacbayes-nn initialize means."""
    return nn.init.trunc_normal_(tensor, mean=0.0, std=std, a=-2 * std, b=2 * std)


class GaussianParam(nn.Module):
    """Posterior N(μ, softplus(ρ)²) with a constant prior N(μ_P, σ_P²), initialised at the prior."""

    def __init__(self, shape, fan_in, sigma0=SIGMA0, zero_mean=False):
        super().__init__()
        mu = torch.zeros(shape) if zero_mean else truncated_normal_(torch.empty(shape), 1 / math.sqrt(fan_in))
        self.mu = nn.Parameter(mu.clone())
        self.rho = nn.Parameter(torch.full(shape, inverse_softplus(sigma0)))
        self.register_buffer("prior_mu", mu.clone())
        self.register_buffer("prior_sigma", torch.full(shape, sigma0))

    def sigma(self):
        return F.softplus(self.rho)

    def sample(self, sigma):
        return self.mu + sigma * torch.randn_like(sigma)

    def kl(self, sigma):
        var_q, var_p = sigma**2, self.prior_sigma**2
        return 0.5 * (torch.log(var_p / var_q) + (var_q + (self.mu - self.prior_mu) ** 2) / var_p - 1).sum()


class GaussianLayer(nn.Module):
    """A Gaussian linear or convolutional layer; `op(x, w, b)` is F.linear or F.conv2d."""

    def __init__(self, weight_shape, fan_in, op):
        super().__init__()
        self.weight = GaussianParam(weight_shape, fan_in)
        self.bias = GaussianParam((weight_shape[0],), fan_in, zero_mean=True)
        self.op = op

    def draw(self):
        """Draws the weight and bias once; mode "drawn" then uses them until the next draw."""
        with torch.no_grad():
            self.drawn = (self.weight.sample(self.weight.sigma()), self.bias.sample(self.bias.sigma()))

    def forward(self, x, mode):
        if mode == "drawn":
            return self.op(x, *self.drawn), 0.0
        sw, sb = self.weight.sigma(), self.bias.sigma()
        if mode == "sample":
            out = self.op(x, self.weight.sample(sw), self.bias.sample(sb))
        elif mode == "local":
            mean = self.op(x, self.weight.mu, self.bias.mu)
            var = self.op(x * x, sw * sw, sb * sb)
            out = mean + var.sqrt() * torch.randn_like(mean)
        else:
            raise ValueError(f"unknown mode {mode!r}: expected 'sample', 'local' or 'drawn'")
        return out, self.weight.kl(sw) + self.bias.kl(sb)


def gaussian_linear(inputs, outputs):
    return GaussianLayer((outputs, inputs), inputs, F.linear)


def gaussian_conv(in_channels, out_channels, kernel):
    return GaussianLayer((out_channels, in_channels, kernel, kernel), in_channels * kernel * kernel, F.conv2d)


class StochasticFCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(
            [gaussian_linear(784, 600), gaussian_linear(600, 600), gaussian_linear(600, 600), gaussian_linear(600, 10)]
        )

    def forward(self, x, mode):
        x = x.reshape(x.shape[0], 784)
        kl = 0.0
        for i, layer in enumerate(self.layers):
            x, layer_kl = layer(x, mode)
            kl = kl + layer_kl
            if i + 1 < len(self.layers):
                x = F.relu(x)
        return x, kl


class StochasticCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = gaussian_conv(1, 32, 3)
        self.conv2 = gaussian_conv(32, 64, 3)
        self.fc1 = gaussian_linear(9216, 128)
        self.fc2 = gaussian_linear(128, 10)

    def forward(self, x, mode):
        x = x.reshape(x.shape[0], 1, 28, 28)
        x, kl1 = self.conv1(x, mode)
        x, kl2 = self.conv2(F.relu(x), mode)
        x = torch.flatten(F.max_pool2d(F.relu(x), 2), 1)
        x, kl3 = self.fc1(x, mode)
        x, kl4 = self.fc2(F.relu(x), mode)
        return x, kl1 + kl2 + kl3 + kl4


class PriorFCN(nn.Module):
    """The deterministic FCN trained by ERM on S_prior, dropout after each hidden layer."""

    def __init__(self, dropout=0.2):
        super().__init__()
        self.fcs = nn.ModuleList([nn.Linear(784, 600), nn.Linear(600, 600), nn.Linear(600, 600), nn.Linear(600, 10)])
        self.dropout = nn.Dropout(dropout)
        init_like_pbb(self)

    def forward(self, x):
        x = x.reshape(x.shape[0], 784)
        for fc in self.fcs[:-1]:
            x = self.dropout(F.relu(fc(x)))
        return self.fcs[-1](x)


class PriorCNN(nn.Module):
    """The deterministic CNN, dropout after the pooled second convolution and after fc1."""

    def __init__(self, dropout=0.2):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)
        self.dropout = nn.Dropout(dropout)
        init_like_pbb(self)

    def forward(self, x):
        x = x.reshape(x.shape[0], 1, 28, 28)
        x = F.relu(self.conv1(x))
        x = self.dropout(F.max_pool2d(F.relu(self.conv2(x)), 2))
        x = self.dropout(F.relu(self.fc1(torch.flatten(x, 1))))
        return self.fc2(x)


def init_like_pbb(module):
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            truncated_normal_(m.weight.data, 1 / math.sqrt(m.weight[0].numel()))
            nn.init.zeros_(m.bias)


def bounded_cross_entropy(logits, labels, p_min=P_MIN):
    """Cross-entropy with probabilities clamped below at p_min, rescaled to [0, 1]."""
    log_probs = torch.clamp(F.log_softmax(logits, dim=1), min=math.log(p_min))
    return F.nll_loss(log_probs, labels) / math.log(1 / p_min)


def f_quad(risk, kl, n=N_BOUND, delta=DELTA):
    """(sqrt(r + c) + sqrt(c))² with c = (KL + ln(2√n/δ)) / (2n)."""
    c = (kl + math.log(2 * math.sqrt(n) / delta)) / (2 * n)
    return (torch.sqrt(risk + c) + torch.sqrt(c)) ** 2


def draw(net):
    """Draws one network from Q: forward passes in mode "drawn" then all use the same weights."""
    for m in net.modules():
        if isinstance(m, GaussianLayer):
            m.draw()


def stochastic_net(architecture):
    return {"fcn": StochasticFCN, "cnn": StochasticCNN}[architecture]()


def prior_net(architecture, dropout=0.2):
    return {"fcn": PriorFCN, "cnn": PriorCNN}[architecture](dropout)


def gaussian_layers(net):
    return [m for m in net.modules() if isinstance(m, GaussianLayer)]


def use_mean(net):
    """Sets the weights of mode "drawn" to the means: forward passes then run the mean network."""
    for layer in gaussian_layers(net):
        layer.drawn = (layer.weight.mu.detach(), layer.bias.mu.detach())


def kl(net):
    """KL(Q‖P) over every weight and bias, without a forward pass."""
    with torch.no_grad():
        return sum(float(p.kl(p.sigma())) for layer in gaussian_layers(net) for p in (layer.weight, layer.bias))


def stochastic_from_prior(architecture, prior, sigma0):
    """The stochastic net whose prior and initial posterior are N(prior mean, σ₀²), the means taken
    from the trained deterministic `prior` (a PriorFCN or PriorCNN), layer by layer in order."""
    net = stochastic_net(architecture)
    dense = [m for m in prior.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        for layer, source in zip(gaussian_layers(net), dense, strict=True):
            for param, mean in ((layer.weight, source.weight), (layer.bias, source.bias)):
                param.mu.copy_(mean)
                param.prior_mu.copy_(mean)
                param.rho.fill_(inverse_softplus(sigma0))
                param.prior_sigma.fill_(sigma0)
    return net
