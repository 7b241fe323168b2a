# Grown shapes of the ninth-run model, exported for a CPU cost measurement only (new blocks are identities).
import sys
sys.path.insert(0, '/work/main')
from models.ultramem.train import load_checkpoint
from models.ultramem.grow import grow, grown_config
from models.ultramem.model_folder import write_model_folder
base = load_checkpoint('/tmp/um9/parts').eval()
for n_layer, ffn in [(16, 1024), (20, 1536), (24, 1536)]:
    target = grown_config(base.cfg, n_layer, ffn)
    model = grow(base, target).eval()
    out = f'/tmp/um10/grown/{n_layer}x{ffn}'
    write_model_folder(model, '/work/main/models/ultramem-code-s/tokenizer.json', out, 'ultramem-code-s', 'grown', '', fim_template='spm')
    print(out, target.memory.placement if target.memory else None, flush=True)
