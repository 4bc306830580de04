"""coursekit: the helper package of the neural-network foundations course.

Divided by concept, not by chapter; each module imports only from the ones listed
before it (see README, "Layout"):

- ``coursekit.neurons``      step function, neuron, logic gates (ch. 01)
- ``coursekit.dense``        numpy dense forward pass, parameter counts (ch. 02)
- ``coursekit.activations``  the activation registry: functions, derivatives, torch counterparts (ch. 03)
- ``coursekit.collapse``     collapsing linear stacks into one layer (ch. 04)
- ``coursekit.init``         numpy initializers matching ``torch.nn.init``, one table of schemes (ch. 05)
- ``coursekit.softmax``      softmax, log-softmax, cross-entropy, temperature (ch. 06)
- ``coursekit.data``         every data set made in code: XOR, two moons, blobs (ch. 02-06)
- ``coursekit.training``     every training loop: the perceptron rule, gradient descent, autograd runs (ch. 01-06)
- ``coursekit.experiments``  the activation statistics and mean-field theory of ch. 05, numbers only
- ``coursekit.plotting``     the course's figure style, palette and every static figure
- ``coursekit.widgets``      live ipywidgets explorers (histogram, slope, temperature), above the math
- ``coursekit.exercises``    exercise specs, instant feedback, student copies
- ``coursekit.grading``      safe batch grading of submissions

Only the light basics are imported here; import the submodules you need.
"""

from coursekit.seed import set_seed

__version__ = "0.1.0"
__all__ = ["set_seed", "__version__"]
