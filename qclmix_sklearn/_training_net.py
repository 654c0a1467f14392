"""skorch's NeuralNet without per-batch work that cannot change the result."""

import torch
from skorch import NeuralNet
from skorch.dataset import get_len, unpack_data


class TrainingNet(NeuralNet):
    """A ``NeuralNet`` with a cheaper training loop and a forward-only validation.

    * skorch calls ``_set_training`` before every batch, walking the whole
      module tree each time: for a small network that costs a sizeable part
      of a training step. Here the modes of ``module_`` and ``criterion_`` are
      checked first (whoever flips a module's mode flips its root, as
      ``nn.Module.train`` and ``eval`` do) and the walk is skipped when both
      already match.
    * ``train_step`` zeroes the gradients, runs the step and updates the
      weights directly, without skorch's optimizer-closure machinery and its
      ``on_grad_computed`` notification (no callback here listens to it, and
      AdamW evaluates the loss once anyway).
    * The batch losses go to the history once per epoch, in one
      device-to-host copy, instead of skorch's ``loss.item()`` after every
      batch (a device synchronisation per batch on a GPU). They are there
      before the epoch's validation and ``on_epoch_end`` callbacks.
    * The validation pass only predicts: checkpoint selection and early
      stopping look at the validation macro-F1 alone (as the paper's
      Algorithm 1 does), so no validation loss is computed or logged
      (``valid_loss`` is absent from the history). Eval-mode predictions do
      not depend on the batch, so validation batches can be large
      (``iterator_valid__batch_size``). The scoring callbacks still receive
      every batch's predictions and cache them as usual.
    """

    def _set_training(self, training=True):
        module = getattr(self, "module_", None)
        criterion = getattr(self, "criterion_", None)
        if (module is not None and criterion is not None
                and module.training == training and criterion.training == training):
            return
        super()._set_training(training)

    def train_step(self, batch, **fit_params):
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        self._step_optimizer(None)
        return step

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        if training:
            return self._train_epoch(iterator, prefix, step_fn, **fit_params)
        self._set_training(False)
        batch_count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=False)
            Xi, _ = unpack_data(batch)
            with torch.no_grad():
                y_pred = self.infer(Xi, **fit_params)
            self.history.record_batch(prefix + "_batch_size", get_len(Xi))
            self.notify("on_batch_end", batch=batch, training=False, y_pred=y_pred)
            batch_count += 1
        self.history.record(prefix + "_batch_count", batch_count)

    def _train_epoch(self, iterator, prefix, step_fn, **fit_params):
        losses = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=True)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            self.history.record_batch(prefix + "_batch_size", get_len(unpack_data(batch)[0]))
            self.notify("on_batch_end", batch=batch, training=True, **step)
        self.history.record(prefix + "_batch_count", len(losses))
        if losses:
            values = torch.stack(losses).double().cpu().tolist()
            batches = self.history[-1]["batches"][-len(losses):]
            for record, value in zip(batches, values):
                record[prefix + "_loss"] = value
