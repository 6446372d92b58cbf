namespace Nursery;
