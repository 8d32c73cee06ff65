"""``iccc correct IMAGE "caption" --model OUTDIR``: ask a trained model what is wrong with a caption."""

from __future__ import annotations

from ._cli_args import default_of, positive_int


def add_arguments(p) -> None:
    from .train.inference import correct

    p.add_argument("image", help="image file")
    p.add_argument("caption", help="the caption to check")
    p.add_argument("--model", required=True, help="output directory of `iccc train` (or a merged checkpoint)")
    p.add_argument("--template", default=None,
                   help="prompt with {caption} (default: the correction template saved with the model)")
    max_new_tokens = default_of(correct, "max_new_tokens")
    p.add_argument("--max-new-tokens", type=positive_int, default=max_new_tokens,
                   help=f"longest answer, in tokens (default {max_new_tokens})")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available)")


def run(args) -> int:
    from .train import correct, load_trained

    model, processor = load_trained(args.model, device=args.device)
    print(correct(model, processor, args.image, args.caption, template=args.template,
                  max_new_tokens=args.max_new_tokens))
    return 0
