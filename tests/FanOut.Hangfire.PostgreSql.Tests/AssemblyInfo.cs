// Hangfire keeps some configuration in statics; hosts are started one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
