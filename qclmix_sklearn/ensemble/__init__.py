"""The cross-fit ensemble: members' mean prediction, fused eval-mode inference, class offsets."""
