"""Small constructs, one job each; the stacks in infra.stacks compose them."""
