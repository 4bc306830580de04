"""coursekit: the helper package of the neural-network foundations course.

Divided by concept, not by chapter (see README):

- ``coursekit.neurons``      step function, neuron, perceptron rule, logic gates (ch. 01)
- ``coursekit.dense``        numpy dense forward pass, parameter counts (ch. 02)
- ``coursekit.activations``  activation functions and derivatives (ch. 03)
- ``coursekit.collapse``     collapsing linear stacks into one layer (ch. 04)
- ``coursekit.init``         numpy initializers matching ``torch.nn.init`` (ch. 05)
- ``coursekit.experiments``  the activation-statistics experiments (ch. 05)
- ``coursekit.softmax``      softmax, log-softmax, cross-entropy, temperature (ch. 06)
- ``coursekit.plotting``     the course's figure style and plot helpers
- ``coursekit.widgets``      live ipywidgets explorers (histogram, slope, temperature), above the math
- ``coursekit.exercises``    exercise specs, instant feedback, student copies
- ``coursekit.grading``      safe batch grading of submissions

Only the light basics are imported here; import the submodules you need.
"""

from coursekit.seed import set_seed

__version__ = "0.1.0"
__all__ = ["set_seed", "__version__"]
