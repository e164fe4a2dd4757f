import pytest

from seqlab.data import BucketBatchSampler


def test_every_item_once_and_batches_are_length_sorted():
    lengths = [(i * 37) % 101 for i in range(103)]
    s = BucketBatchSampler(lengths, batch_size=8, shuffle=True, bucket_size=4, seed=3)
    batches = list(s)
    assert len(batches) == len(s)
    assert sorted(i for b in batches for i in b) == list(range(103))
    # buckets: a batch spans a small part of the length range
    spread = max(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches)
    assert spread <= 40


def test_epochs_differ_and_are_reproducible():
    lengths = list(range(64))
    s = BucketBatchSampler(lengths, batch_size=4, shuffle=True, seed=1)
    e0 = list(s)
    s.set_epoch(1)
    e1 = list(s)
    s.set_epoch(0)
    assert list(s) == e0 and e0 != e1


def test_eval_order_is_deterministic_ascending():
    s = BucketBatchSampler([5, 1, 3, 2, 4], batch_size=2, shuffle=False)
    assert list(s) == [[1, 3], [2, 4], [0]]


@pytest.mark.parametrize("shuffle", [True, False])
def test_ddp_shards_are_distinct(shuffle):
    lengths = list(range(50))
    shards = [list(BucketBatchSampler(lengths, 4, shuffle=shuffle, seed=0, num_replicas=2, rank=r)) for r in (0, 1)]
    seen = [set(i for b in sh for i in b) for sh in shards]
    assert not seen[0] & seen[1]
    if shuffle:  # equal batch counts keep DDP's collective calls in step
        assert len(shards[0]) == len(shards[1]) == len(BucketBatchSampler(lengths, 4, num_replicas=2, rank=0))
    else:
        assert seen[0] | seen[1] == set(range(50))


def test_resume_skips_only_within_the_saved_epoch():
    from torch.utils.data import Dataset

    from seqlab.data.loader import ResumableDataLoader

    class Ids(Dataset):
        def __len__(self):
            return 20

        def __getitem__(self, i):
            return i

    def loader():
        return ResumableDataLoader(Ids(), batch_sampler=BucketBatchSampler(list(range(20)), 4, seed=5),
                                   collate_fn=list)

    ref = loader()
    ref.batch_sampler.set_epoch(1)
    epoch1 = list(ref)
    ref.batch_sampler.set_epoch(2)
    epoch2 = list(ref)

    # killed after 2 batches of epoch 1: the resumed epoch yields the other 3, then epoch 2 whole
    it = loader()
    it.batch_sampler.set_epoch(1)
    taken = iter(it)
    next(taken), next(taken)
    state = it.state_dict()
    assert state == {"epoch": 1, "batches": 2}
    resumed = loader()
    resumed.load_state_dict(state)
    resumed.batch_sampler.set_epoch(1)  # what Lightning does at the start of the epoch
    assert list(resumed) == epoch1[2:]
    assert resumed.state_dict() == {"epoch": 1, "batches": 5}

    # checkpoint written at the end of epoch 1 (all 5 batches taken): Lightning goes on with epoch 2
    resumed = loader()
    resumed.load_state_dict({"epoch": 1, "batches": 5})
    resumed.batch_sampler.set_epoch(2)
    assert list(resumed) == epoch2
