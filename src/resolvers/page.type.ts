/** Relay-style page information shared by the connections. */
import { Field, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Where a page of a list stands (Relay cursor pagination).' })
export class PageInfo {
  @Field({ description: 'True when more items follow: pass endCursor as `after` to get them.' })
  hasNextPage!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor of the last item of this page (opaque); null for an empty page.',
  })
  endCursor!: string | null;
}
